"""WebSub subscriptions, the subscriber's side of the W3C Recommendation (https://www.w3.org/TR/websub/).

A feed poll that finds a hub (Link headers, else the feed's own link elements) keeps one subscription row for
the feed; the crawl loop and the distributed scheduler claim rows that are due and POST the request to the hub
through the fetcher (address guard and per-host limit apply). Before the request leaves, the row says it is
pending, so a hub that verifies at once finds it; the callback on `newsdelta serve` (newsdelta.web.websub)
answers the hub's verification and receives its notifications. Renewal comes at RENEW_AT of the lease the hub
granted; a removed feed (or one that stops declaring its hub) is unsubscribed. All of it only with a public base
URL (NEWSDELTA_BASE_URL), since the hub must reach the callback; without one, hubs are recorded and not used.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsdelta.crawl.context import CrawlContext
from newsdelta.discovery.websub import HubLinks
from newsdelta.fetch import FetchError
from newsdelta.store.leases import claim_due, drop_lease
from newsdelta.store.models import Feed, HubSubscription

log = logging.getLogger(__name__)

CALLBACK_PATH = "/websub/"
# The spec's suggested lease; hubs grant what they like.
REQUESTED_LEASE = timedelta(days=10)
# Renew once this share of the granted lease has passed (never sooner than MIN_RENEWAL after verification).
RENEW_AT = 0.8
MIN_RENEWAL = timedelta(minutes=1)
# A hub that accepted a request but has not verified it by then is asked again.
VERIFY_WAIT = timedelta(hours=1)
CLAIM_BATCH = 100


def callback_url(base_url: str, token: str) -> str:
    return f"{base_url}{CALLBACK_PATH}{token}"


def note_hubs(session: Session, feed: Feed, found: HubLinks | None, fetched_url: str, now: datetime) -> None:
    """Keep the feed's subscription in line with the hub (the first it names) and topic it declares now."""
    current = session.scalar(select(HubSubscription).where(HubSubscription.feed_id == feed.id))
    wanted = None if found is None else (found.hubs[0], found.topic(fetched_url))
    if current is not None and wanted == (current.hub_url, current.topic_url):
        return
    if current is not None:
        let_go(current, now)
        session.flush()  # the feed's one row is free for the new hub
    if wanted is not None:
        log.info("feed %s declares the WebSub hub %s for %s", feed.url, *wanted)
        session.add(
            HubSubscription(
                feed_id=feed.id,
                hub_url=wanted[0],
                topic_url=wanted[1],
                callback_token=secrets.token_urlsafe(32),
                secret=secrets.token_hex(32),
                mode="subscribe",
                state="new",
                next_check_at=now,
                notifications=0,
                error_streak=0,
                created_at=now,
            )
        )


def let_go(subscription: HubSubscription, now: datetime) -> None:
    """Detach from its feed and unsubscribe at the next chance."""
    subscription.feed_id = None
    subscription.mode = "unsubscribe"
    subscription.requested_at = None
    subscription.next_check_at = now


def release_feed(session: Session, feed_id: int, now: datetime) -> None:
    """A feed is being removed: its subscription is let go (and unsubscribed by the next crawl pass)."""
    for subscription in session.scalars(select(HubSubscription).where(HubSubscription.feed_id == feed_id)):
        let_go(subscription, now)
    session.flush()


def lease_running(subscription: HubSubscription, now: datetime) -> bool:
    expires = subscription.lease_expires_at
    return subscription.verified_at is not None and expires is not None and expires > now


@dataclass(frozen=True, slots=True)
class HubRequest:
    hub_url: str
    form: dict[str, str]
    requested_at: datetime

    def describe(self) -> str:
        return f"{self.form['hub.mode']} of {self.form['hub.topic']} at {self.hub_url}"


async def maintain_subscriptions(ctx: CrawlContext) -> int:
    """Send the hub requests that are due (subscribe, renew, unsubscribe); how many were sent."""
    if ctx.websub_base_url is None:
        return 0
    with ctx.sessions() as session:
        now = ctx.clock()
        ids = claim_due(
            session, HubSubscription, now, limit=CLAIM_BATCH, lease=ctx.feed_lease, owner=ctx.owner
        )
    sent = await asyncio.gather(*(request_subscription(ctx, subscription_id) for subscription_id in ids))
    return sum(sent)


async def request_subscription(ctx: CrawlContext, subscription_id: int) -> bool:
    """POST one claimed subscription's request to its hub and record how the hub took it; True if sent."""
    request = await asyncio.to_thread(_prepare, ctx, subscription_id)
    if request is None:
        return False
    try:
        result = await ctx.fetcher.post_form(request.hub_url, request.form)
    except FetchError as exc:
        error: str | None = str(exc)
    else:
        ok = 200 <= result.status < 300
        error = None if ok else f"HTTP {result.status} from the hub: {result.text.strip()[:300]}"
    if error is not None:
        log.warning("WebSub %s failed: %s", request.describe(), error)
    await asyncio.to_thread(_record, ctx, subscription_id, request.requested_at, error)
    return True


def _prepare(ctx: CrawlContext, subscription_id: int) -> HubRequest | None:
    """Mark the request pending, committed before it is sent: a hub may verify before it even answers."""
    if ctx.websub_base_url is None:
        log.warning("WebSub request %s not sent: this process has no NEWSDELTA_BASE_URL", subscription_id)
        return None
    with ctx.sessions.begin() as session:
        subscription = session.get(HubSubscription, subscription_id)
        if subscription is None:
            return None
        now = ctx.clock()
        if subscription.mode == "unsubscribe" and not lease_running(subscription, now):
            session.delete(subscription)  # nothing at the hub to let go of any more
            return None
        subscription.callback_url = callback_url(ctx.websub_base_url, subscription.callback_token)
        subscription.requested_at = subscription.last_checked_at = now
        form = {
            "hub.mode": subscription.mode,
            "hub.topic": subscription.topic_url,
            "hub.callback": subscription.callback_url,
        }
        if subscription.mode == "subscribe":
            form["hub.secret"] = subscription.secret
            form["hub.lease_seconds"] = str(int(REQUESTED_LEASE.total_seconds()))
        return HubRequest(subscription.hub_url, form, now)


def _record(ctx: CrawlContext, subscription_id: int, requested_at: datetime, error: str | None) -> None:
    with ctx.sessions.begin() as session:
        # Locked: the hub's verification may be landing through the callback at this very moment.
        subscription = session.get(HubSubscription, subscription_id, with_for_update=True)
        if subscription is None:
            return
        now = ctx.clock()
        drop_lease(subscription)
        still_pending = subscription.requested_at == requested_at  # no verification arrived meanwhile
        if error is None:
            subscription.error_streak, subscription.last_error = 0, None
            if still_pending:
                subscription.state = "active" if subscription.state == "active" else "pending"
                subscription.next_check_at = now + VERIFY_WAIT
            return
        subscription.error_streak += 1
        subscription.last_error = error[:2000]
        if still_pending:
            subscription.requested_at = None
        if subscription.mode == "unsubscribe" and not lease_running(subscription, now):
            session.delete(subscription)
        else:
            subscription.next_check_at = now + ctx.policy.error_delay(subscription.error_streak)
