"""The in-process crawl: claim due feeds and articles, check them concurrently, repeat.

`newsdelta crawl` runs this; with a broker, `newsdelta scheduler` + `newsdelta worker` dispatch the very same
`poll_feed` / `check_article` through Celery instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.crawl.budget import claim_articles
from newsdelta.crawl.check import NoChangeLog, check_article, load_batch
from newsdelta.crawl.context import CrawlContext
from newsdelta.crawl.polling import poll_feed
from newsdelta.crawl.wayback import archive_client, archive_round
from newsdelta.crawl.websub import maintain_subscriptions
from newsdelta.notify import deliver
from newsdelta.store import checklog
from newsdelta.store.leases import claim_due, release_leases_of_dead_processes
from newsdelta.store.models import Article, Feed
from newsdelta.vocabulary import Outcome

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PassStats:
    feeds_polled: int = 0
    articles_added: int = 0
    hub_requests: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    notifications_sent: int = 0

    @property
    def checks(self) -> int:
        return sum(self.outcomes.values())

    def outcome_counts(self) -> dict[str, int]:
        return outcome_counts(self.outcomes)


def outcome_counts(outcomes: Counter[Outcome]) -> dict[str, int]:
    """Checks per outcome, keyed by the outcome's word: for JSON, logs and people."""
    return {str(outcome): count for outcome, count in outcomes.items()}


OnCheck = Callable[[Outcome], None]


async def _run_bounded(jobs: Iterable[Awaitable[T]], limit: int) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def bounded(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return await asyncio.gather(*(bounded(job) for job in jobs))


async def poll_due_feeds(ctx: CrawlContext, stats: PassStats, *, concurrency: int) -> None:
    with ctx.sessions() as session:
        ids = claim_due(session, Feed, ctx.clock(), limit=1000, lease=ctx.feed_lease, owner=ctx.owner)
    added = await _run_bounded((poll_feed(ctx, feed_id) for feed_id in ids), concurrency)
    stats.feeds_polled += len(ids)
    stats.articles_added += sum(added)


async def check_batch(
    ctx: CrawlContext, article_ids: Sequence[int], *, concurrency: int, on_check: OnCheck | None = None
) -> Counter[Outcome]:
    """Check leased articles together: one query reads their snapshots, no-change outcomes are written in
    groups. The unit of work both of the in-process crawl and of a worker's task."""
    snapshots = load_batch(ctx, article_ids)
    log = NoChangeLog(ctx)
    outcomes: Counter[Outcome] = Counter()

    async def one(article_id: int) -> None:
        outcome = await check_article(ctx, article_id, snapshot=snapshots.get(article_id), log=log)
        outcomes[outcome] += 1
        if on_check is not None:
            on_check(outcome)

    try:
        await _run_bounded((one(article_id) for article_id in article_ids), concurrency)
    finally:
        log.flush()
    return outcomes


async def check_due_articles(
    ctx: CrawlContext,
    stats: PassStats,
    *,
    concurrency: int,
    batch: int = 500,
    forced_since: datetime | None = None,
    on_check: OnCheck | None = None,
) -> None:
    """Claim and check batches until nothing is due; each batch's leases are held only while it runs."""
    while True:
        with ctx.sessions() as session:
            ids = claim_articles(
                session,
                ctx.clock(),
                limit=batch,
                lease=ctx.lease,
                owner=ctx.owner,
                policy=ctx.policy,
                forced_since=forced_since,
            )
        if not ids:
            return
        stats.outcomes.update(await check_batch(ctx, ids, concurrency=concurrency, on_check=on_check))


async def run_pass(
    ctx: CrawlContext, *, concurrency: int = 16, force: bool = False, on_check: OnCheck | None = None
) -> PassStats:
    """One pass: poll due feeds, send due WebSub requests, check due articles (all of them with `force`), then
    notify what they stored."""
    stats = PassStats()
    await poll_due_feeds(ctx, stats, concurrency=concurrency)
    stats.hub_requests = await request_hubs(ctx)
    forced_since = ctx.clock() if force else None
    await check_due_articles(
        ctx, stats, concurrency=concurrency, forced_since=forced_since, on_check=on_check
    )
    stats.notifications_sent = await deliver_notifications(ctx)
    await archive_versions(ctx)
    prune_check_log(ctx)
    return stats


def prune_check_log(ctx: CrawlContext) -> int:
    """Drop a batch of expired check rows; a failure here (a busy database) never stops the crawl."""
    try:
        return checklog.prune(ctx.sessions, ctx.clock(), ctx.check_retention)
    except Exception:
        log.exception("pruning the check log failed; it is tried again next pass")
        return 0


async def request_hubs(ctx: CrawlContext) -> int:
    """Subscribe, renew and unsubscribe at WebSub hubs; a failing hub or database never stops the crawl."""
    try:
        return await maintain_subscriptions(ctx)
    except Exception:
        log.exception("WebSub requests failed; they are due again at the next pass")
        return 0


async def deliver_notifications(ctx: CrawlContext) -> int:
    """Send what the stored versions owe subscribers; a failing channel never stops the crawl (it retries)."""
    try:
        return (await deliver(ctx.sessions, ctx.clock())).sent
    except Exception:
        log.exception("notification delivery failed; pending messages stay queued")
        return 0


async def archive_versions(ctx: CrawlContext) -> int:
    """Submit new versions to Save Page Now when configured; the archive failing never stops the crawl."""
    if ctx.archive is None:
        return 0
    try:
        async with archive_client(ctx.archive) as client:
            return await archive_round(ctx.sessions, client, ctx.clock())
    except Exception:
        log.exception("Save Page Now round failed; its submissions stay queued")
        return 0


def next_due(sessions: sessionmaker[Session]) -> datetime | None:
    """The soonest moment a feed or an article falls due; None when nothing is scheduled."""
    with sessions() as session:
        moments = [
            session.scalar(select(func.min(Feed.next_check_at))),
            session.scalar(select(func.min(Article.next_check_at))),
        ]
    due = [moment for moment in moments if moment is not None]
    return min(due) if due else None


def seconds_until_next_due(ctx: CrawlContext, cap: float) -> float:
    due = next_due(ctx.sessions)
    return cap if due is None else max(0.0, min(cap, (due - ctx.clock()).total_seconds()))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_crashed_leases(ctx: CrawlContext) -> int:
    """A crawler killed mid-pass left leases; give its work back now rather than after the lease expires."""
    with ctx.sessions() as session:
        return release_leases_of_dead_processes(session, socket.gethostname(), _pid_alive, ctx.clock())


async def crawl_forever(
    ctx: CrawlContext,
    stop: asyncio.Event,
    *,
    concurrency: int = 16,
    force: bool = False,
    on_check: OnCheck | None = None,
    on_pass: Callable[[PassStats], None] | None = None,
    idle_cap: float = 30.0,
) -> None:
    recover_crashed_leases(ctx)
    while not stop.is_set():
        stats = await run_pass(ctx, concurrency=concurrency, force=force, on_check=on_check)
        force = False
        if on_pass is not None:
            on_pass(stats)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(seconds_until_next_due(ctx, idle_cap), 0.05))
