"""Delivery: stored versions past each subscription's cursor become outbox rows, then messages, reliably.

Two steps, each its own transaction. Queueing reads versions with ids above the cursor, keeps the changes the
rules match as `notification` rows and moves the cursor, atomically: a crash loses nothing (the cursor did not
move) and repeats nothing (one row per subscription and version). Sending works through a subscription's
unsent rows in order and marks each sent in its own commit: a crash between the receiver taking a message and
the commit sends it again with the same id, which the receiver drops (at least once, never visibly twice).
A failure is retried with exponential backoff and later messages wait behind it, so order is kept.
A subscription is leased while it is worked on, so a crawl and several Celery workers never send in parallel.

Version ids only grow, and SQLite commits one writer at a time, so a cursor never skips a version there. On
PostgreSQL a check committing late could insert an id below one already read; `RESCAN` re-reads the last ids
below the cursor each time (the unique row makes that harmless) to cover that window.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.notify.card import CardCache
from newsdelta.notify.channels import DeliveryError, Outgoing, channel_for
from newsdelta.notify.message import (
    ChangeMessage,
    Format,
    build_message,
    digest_id,
    render_body,
    render_digest,
    sample_message,
    title_line,
)
from newsdelta.notify.rules import DIGESTS, Candidate, is_change, matches, validate
from newsdelta.store.db import rows_changed
from newsdelta.store.models import Article, Notification, Source, Subscription, Version, VersionChange
from newsdelta.store.repository import NotFound
from newsdelta.web.diffing import DiffCache

log = logging.getLogger(__name__)

SCAN_BATCH = 500
RESCAN = 50
LEASE = timedelta(minutes=5)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    doublings: int = 2 ** max(attempts - 1, 0)
    return min(BACKOFF_FIRST * doublings, BACKOFF_MAX)


def add_subscription(
    session: Session,
    url: str,
    now: datetime,
    *,
    sources: Sequence[str] = (),
    article_ids: Sequence[int] = (),
    url_pattern: str | None = None,
    term: str | None = None,
    kinds: Sequence[str] = (),
    min_change: int = 0,
    digest: str | None = None,
) -> Subscription:
    """A new subscription hears of versions stored from now on; raises ValueError on a rule or URL it cannot use."""
    validate(kinds, digest, url_pattern)
    try:
        channel_for(url).check(url)
    except DeliveryError as exc:
        raise ValueError(f"{exc}: {redact(url)}") from exc
    subscription = Subscription(
        url=url,
        secret=secrets.token_hex(32),
        sources=list(sources),
        article_ids=list(article_ids),
        url_pattern=url_pattern or None,
        term=term or None,
        kinds=list(kinds),
        min_change=min_change,
        digest=digest,
        created_at=now,
        cursor=session.scalar(select(func.max(Version.id))) or 0,
        failure_streak=0,
    )
    session.add(subscription)
    session.flush()
    return subscription


def remove_subscription(session: Session, subscription_id: int) -> None:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(f"no subscription {subscription_id}")
    session.delete(subscription)


def redact(url: str) -> str:
    """A channel URL carries its credentials (tokens, passwords): show only the scheme and the host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}…"


def subscription_dict(subscription: Subscription, pending: int = 0) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "channel": redact(subscription.url),
        "sources": subscription.sources,
        "articles": subscription.article_ids,
        "url_pattern": subscription.url_pattern,
        "term": subscription.term,
        "kinds": subscription.kinds or ["any"],
        "min_change": subscription.min_change,
        "digest": subscription.digest,
        "pending": pending,
        "failure_streak": subscription.failure_streak,
        "last_error": subscription.last_error,
        "last_failure_at": subscription.last_failure_at.isoformat() if subscription.last_failure_at else None,
        "last_delivered_at": (
            subscription.last_delivered_at.isoformat() if subscription.last_delivered_at else None
        ),
    }


def pending_counts(session: Session) -> dict[int, int]:
    query = (
        select(Notification.subscription_id, func.count())
        .where(Notification.delivered_at.is_(None))
        .group_by(Notification.subscription_id)
    )
    return {subscription_id: count for subscription_id, count in session.execute(query)}


def delivery_report(session: Session) -> list[dict[str, Any]]:
    """Every subscription with its backlog and failures: /health, /api/health and `newsdelta status`."""
    pending = pending_counts(session)
    subscriptions = session.scalars(select(Subscription).order_by(Subscription.id))
    return [subscription_dict(row, pending.get(row.id, 0)) for row in subscriptions]


def notifications_due(session: Session, now: datetime) -> bool:
    """Whether a delivery round would have anything to do: versions past a cursor, or a message due."""
    newest = session.scalar(select(func.max(Version.id))) or 0
    behind = session.scalar(select(func.count()).where(Subscription.cursor < newest))
    waiting = session.scalar(
        select(func.count()).where(Notification.delivered_at.is_(None), Notification.next_attempt_at <= now)
    )
    return bool(behind or waiting)


@dataclass(slots=True)
class DeliveryStats:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    """One delivery round's tools: the HTTP client for webhooks, the diff and share-card caches."""

    def __init__(self, client: httpx.AsyncClient, cards: CardCache | None = None) -> None:
        self.client = client
        self.diffs = DiffCache()
        self.cards = cards or CardCache()

    # Queueing --------------------------------------------------------------------------------------------

    def candidates(self, session: Session, versions: Iterable[Version]) -> dict[int, Candidate]:
        """The changes among `versions` (by version id) with their previous versions and diffs."""
        changes = [version for version in versions if is_change(version)]
        if not changes:
            return {}
        keys = {(version.article_id, version.number - 1) for version in changes}
        previous = {
            (v.article_id, v.number): v
            for v in session.scalars(
                select(Version).where(tuple_(Version.article_id, Version.number).in_(keys))
            )
        }
        places = {
            article_id: (source, url)
            for article_id, source, url in session.execute(
                select(Article.id, Source.name, Article.url)
                .join(Source)
                .where(Article.id.in_({v.article_id for v in changes}))
            )
        }
        stored = {
            version_id: kinds
            for version_id, kinds in session.execute(
                select(VersionChange.version_id, VersionChange.kinds).where(
                    VersionChange.version_id.in_({v.id for v in changes})
                )
            )
        }
        found = {}
        for version in changes:
            old = previous.get((version.article_id, version.number - 1))
            if old is None:
                continue
            source, url = places[version.article_id]
            kinds = stored.get(version.id)
            found[version.id] = Candidate(
                source,
                version.article_id,
                url,
                old,
                version,
                self.diffs.diff(old, version),
                None if kinds is None else tuple(kinds),
            )
        return found

    def queue(self, session: Session, subscription: Subscription, now: datetime) -> int:
        """Turn versions past the cursor into outbox rows and move the cursor; the caller commits."""
        queued = 0
        if (session.scalar(select(func.max(Version.id))) or 0) <= subscription.cursor:
            return queued  # the usual case, answered from the primary key alone
        while True:
            low = max(subscription.cursor - RESCAN, 0)
            versions = session.scalars(
                select(Version).where(Version.id > low).order_by(Version.id).limit(SCAN_BATCH + RESCAN)
            ).all()
            if not versions or versions[-1].id <= subscription.cursor:
                return queued
            have = set(
                session.scalars(
                    select(Notification.version_id).where(
                        Notification.subscription_id == subscription.id, Notification.version_id > low
                    )
                )
            )
            for version_id, change in self.candidates(session, versions).items():
                if version_id in have or not matches(subscription, change):
                    continue
                session.add(_outbox_row(subscription, change.new, now))
                queued += 1
            subscription.cursor = versions[-1].id
            session.flush()

    # Sending ---------------------------------------------------------------------------------------------

    def message(self, session: Session, row: Notification) -> ChangeMessage | None:
        new = session.get(Version, row.version_id)
        change = self.candidates(session, [new]).get(row.version_id) if new is not None else None
        return build_message(row.subscription_id, change) if change is not None else None

    async def send_change(self, subscription: Subscription, message: ChangeMessage) -> None:
        outgoing = Outgoing(
            message.id,
            message.to_json(),
            title_line(message),
            lambda fmt: render_body(message, fmt),
            lambda: self._card_file(message),
        )
        await self._send(subscription, outgoing)

    async def send_digest(
        self, subscription: Subscription, period: tuple[datetime, datetime], messages: list[ChangeMessage]
    ) -> None:
        ident = digest_id(subscription.id, period[0])
        payload = {
            "type": "digest",
            "id": ident,
            "subscription": subscription.id,
            "period": {"start": period[0].isoformat(), "end": period[1].isoformat()},
            "changes": [message.to_json() for message in messages],
        }
        title = f"{len(messages)} change{'s' if len(messages) != 1 else ''} ({subscription.digest} digest)"

        def render(fmt: Format) -> str:
            return render_digest(messages, fmt) + ("<br>\n" if fmt == "html" else "\n\n") + f"id: {ident}"

        await self._send(subscription, Outgoing(ident, payload, title, render))

    async def _send(self, subscription: Subscription, message: Outgoing) -> None:
        await channel_for(subscription.url).send(subscription.url, subscription.secret, message, self.client)

    def _card_file(self, message: ChangeMessage) -> Path | None:
        """The share card as a temporary file for apprise to attach; no card is no reason to withhold a message."""
        try:
            png = self.cards.render(message)
        except Exception:
            log.exception("share card for %s failed", message.id)
            return None
        with tempfile.NamedTemporaryFile(suffix=".png", prefix="newsdelta-card-", delete=False) as handle:
            handle.write(png)
        return Path(handle.name)


def _outbox_row(subscription: Subscription, version: Version, now: datetime) -> Notification:
    """A digest's rows are not due before their period ends, so nothing polls for them meanwhile."""
    due = period_of(version.fetched_at, subscription.digest)[1] if subscription.digest else now
    return Notification(
        subscription_id=subscription.id,
        article_id=version.article_id,
        version_id=version.id,
        version_number=version.number,
        fetched_at=version.fetched_at,
        created_at=now,
        attempts=0,
        next_attempt_at=due,
    )


def period_of(moment: datetime, digest: str) -> tuple[datetime, datetime]:
    """The hour or UTC day `moment` falls in."""
    seconds = DIGESTS[digest]
    start = datetime.fromtimestamp(moment.timestamp() // seconds * seconds, UTC)
    return start, start + timedelta(seconds=seconds)


def _pending(session: Session, subscription_id: int) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.subscription_id == subscription_id, Notification.delivered_at.is_(None))
            .order_by(Notification.id)
        )
    )


def _failed(subscription: Subscription, rows: Sequence[Notification], error: str, now: datetime) -> None:
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + backoff(row.attempts)
        row.last_error = error
    subscription.failure_streak += 1
    subscription.last_error = error
    subscription.last_failure_at = now


def _delivered(subscription: Subscription, rows: Sequence[Notification], now: datetime) -> None:
    for row in rows:
        row.delivered_at = now
        row.last_error = None
    subscription.failure_streak = 0
    subscription.last_delivered_at = now


async def _send_each(
    dispatcher: Dispatcher, session: Session, subscription: Subscription, now: datetime, stats: DeliveryStats
) -> None:
    """One message per change, in order; stop at the first not yet due or failing, so order holds."""
    for row in _pending(session, subscription.id):
        if row.next_attempt_at > now:
            return
        message = dispatcher.message(session, row)
        if message is None:  # its version was deleted with its article: nothing left to tell
            _delivered(subscription, [row], now)
            session.commit()
            continue
        try:
            await dispatcher.send_change(subscription, message)
        except DeliveryError as exc:
            _failed(subscription, [row], str(exc), now)
            session.commit()
            stats.failed += 1
            stats.errors.append(f"{message.id}: {exc}")
            return
        _delivered(subscription, [row], now)
        session.commit()
        stats.sent += 1


async def _send_digests(
    dispatcher: Dispatcher, session: Session, subscription: Subscription, now: datetime, stats: DeliveryStats
) -> None:
    """One message per finished period that has changes; a period still running waits for its end."""
    periods: dict[tuple[datetime, datetime], list[Notification]] = {}
    for row in _pending(session, subscription.id):
        periods.setdefault(period_of(row.fetched_at, subscription.digest or "daily"), []).append(row)
    for period, rows in sorted(periods.items()):
        if max(row.next_attempt_at for row in rows) > now:  # the period is not over, or a retry waits
            return
        messages = [m for m in (dispatcher.message(session, row) for row in rows) if m is not None]
        try:
            if messages:
                await dispatcher.send_digest(subscription, period, messages)
        except DeliveryError as exc:
            _failed(subscription, rows, str(exc), now)
            session.commit()
            stats.failed += 1
            stats.errors.append(f"{digest_id(subscription.id, period[0])}: {exc}")
            return
        _delivered(subscription, rows, now)
        session.commit()
        stats.sent += 1


def _claim(session: Session, subscription_id: int, now: datetime) -> bool:
    free = Subscription.lease_until.is_(None) | (Subscription.lease_until < now)
    claimed = session.execute(
        update(Subscription).where(Subscription.id == subscription_id, free).values(lease_until=now + LEASE)
    )
    session.commit()
    return rows_changed(claimed) == 1


def _release(session: Session, subscription_id: int) -> None:
    session.execute(update(Subscription).where(Subscription.id == subscription_id).values(lease_until=None))
    session.commit()


async def deliver_subscription(
    dispatcher: Dispatcher, sessions: sessionmaker[Session], subscription_id: int, now: datetime
) -> DeliveryStats:
    stats = DeliveryStats()
    with sessions() as session:
        if not _claim(session, subscription_id, now):
            return stats
        try:
            subscription = session.get(Subscription, subscription_id)
            if subscription is None:
                return stats
            stats.queued = dispatcher.queue(session, subscription, now)
            session.commit()
            send = _send_digests if subscription.digest else _send_each
            await send(dispatcher, session, subscription, now, stats)
        finally:
            session.rollback()
            _release(session, subscription_id)
    return stats


async def deliver(
    sessions: sessionmaker[Session], now: datetime, *, client: httpx.AsyncClient | None = None
) -> DeliveryStats:
    """One delivery round over every subscription: queue what is new, send what is due."""
    total = DeliveryStats()
    with sessions() as session:
        ids = list(session.scalars(select(Subscription.id).order_by(Subscription.id)))
    if not ids:
        return total
    async with _http(client) as http:
        dispatcher = Dispatcher(http)
        for subscription_id in ids:
            stats = await deliver_subscription(dispatcher, sessions, subscription_id, now)
            total.queued += stats.queued
            total.sent += stats.sent
            total.failed += stats.failed
            total.errors.extend(stats.errors)
    for error in total.errors:
        log.warning("notification not delivered: %s", error)
    return total


@contextlib.asynccontextmanager
async def _http(given: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    """The given client as is, or a fresh one closed afterwards."""
    if given is not None:
        yield given
        return
    async with httpx.AsyncClient(headers={"user-agent": "newsdelta-notify"}) as client:
        yield client


async def send_test(url: str, secret: str, now: datetime) -> str:
    """Send `notify test`'s made-up change to `url` at once, storing nothing; returns its id."""
    message = sample_message(now)
    async with _http(None) as http:
        await Dispatcher(http).send_change(Subscription(url=url, secret=secret), message)
    return message.id
