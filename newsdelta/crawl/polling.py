"""Polling a feed (RSS, Atom, JSON Feed, sitemap or front page): every new article URL becomes a tracked article,
and a newer "last modified" for a tracked one makes it due now (newsdelta.crawl.signals). The WebSub hub a feed
declares is recorded for newsdelta.crawl.websub; a hub's notification is read by the same `track_links`.

A feed is untrusted and may be huge: only its newest `feed_max_items` article URLs are read per poll, parsing
and database work run on worker threads in batches (the event loop keeps serving the crawl's other checks), and
the feed's lease is extended while the poll works, so no other process polls it meanwhile. A poll whose lease
was nonetheless lost (another process claimed the feed again) writes nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from types import TracebackType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsdelta.crawl.context import CrawlContext
from newsdelta.crawl.signals import apply_signals
from newsdelta.crawl.websub import note_hubs
from newsdelta.discovery import DiscoveryError, Link, UrlFilter, canonicalize_url
from newsdelta.discovery.sniff import discover_all
from newsdelta.discovery.websub import HubLinks, hub_links
from newsdelta.extract import is_article_url, parser_for
from newsdelta.fetch import FetchError, FetchResult
from newsdelta.store.leases import Lease, drop_lease, extend_lease, lease_of, still_held
from newsdelta.store.models import Feed
from newsdelta.store.repository import known_urls, track_article

log = logging.getLogger(__name__)

# A sitemap index can name thousands of children; more than this per poll is a crawl of its own.
MAX_CHILD_SITEMAPS = 50
# Article URLs looked up and tracked per transaction (and per trip to a worker thread).
TRACK_BATCH = 200


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    feed_id: int
    url: str
    etag: str | None
    last_modified: str | None
    exclude: tuple[str, ...]
    lease: Lease | None  # the claim this poll works under; None when polled without one


class LeaseKeeper:
    """Extends a feed's lease every third of its length while the poll works.

    Each extension replaces `lease` with the new expiry. If an extension finds the feed under another claim,
    the lease expired and was claimed again (newsdelta.store.leases): `lost` is set for good.
    """

    def __init__(self, ctx: CrawlContext, feed_id: int, lease: Lease | None) -> None:
        self.ctx = ctx
        self.feed_id = feed_id
        self.lease = lease
        self.lost = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LeaseKeeper:
        if self.lease is not None:
            self._task = asyncio.create_task(self._keep())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Stop, after any extension in flight has landed, so `lease` is the claim as it stands."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _keep(self) -> None:
        interval = self.ctx.feed_lease.total_seconds() / 3
        while not self.lost:
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.to_thread(self._extend)
            except SQLAlchemyError as exc:  # the database is away: try again at the next interval
                log.warning("feed %s: lease not extended: %s", self.feed_id, exc)

    def _extend(self) -> None:
        assert self.lease is not None  # the keeper runs only for a claimed lease (__aenter__)
        until = self.ctx.clock() + self.ctx.feed_lease
        with self.ctx.sessions() as session:
            if extend_lease(session, Feed, self.feed_id, self.lease, until):
                self.lease = Lease(self.lease.owner, until)
            else:
                self.lost = True
                log.warning("feed %s: lease lost to another process; this poll stops", self.feed_id)


async def poll_feed(ctx: CrawlContext, feed_id: int) -> int:
    """Poll one leased feed; return how many articles it added."""
    snapshot = await asyncio.to_thread(_snapshot, ctx, feed_id)
    if snapshot is None:
        return 0
    added = 0
    async with LeaseKeeper(ctx, feed_id, snapshot.lease) as lease:
        try:
            result = await ctx.fetcher.get(
                snapshot.url, etag=snapshot.etag, last_modified=snapshot.last_modified
            )
            if result.status >= 400:
                raise FetchError(f"HTTP {result.status}")
            links, hubs = ([], None) if result.not_modified else await _links(ctx, result)
        except (FetchError, DiscoveryError) as exc:
            log.warning("feed %s failed: %s", snapshot.url, exc)
            record = partial(_record_feed_error, message=str(exc))
        else:
            added = await _track_links(ctx, snapshot, links, lease)
            record = partial(_record_success, result=result, hubs=hubs)
    if not lease.lost:
        await asyncio.to_thread(record, ctx, feed_id, lease.lease)
    return added


def _snapshot(ctx: CrawlContext, feed_id: int) -> FeedSnapshot | None:
    with ctx.sessions() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            return None
        return FeedSnapshot(
            feed.id, feed.url, feed.etag, feed.last_modified, tuple(feed.exclude_patterns), lease_of(feed)
        )


async def _links(ctx: CrawlContext, result: FetchResult) -> tuple[list[Link], HubLinks | None]:
    """The page's links (for a sitemap index, also those of its child sitemaps, bounded) and the WebSub hub it
    declares, if any."""
    found = await asyncio.to_thread(
        discover_all,
        result.body,
        result.headers.get("content-type"),
        result.final_url,
        front_page_rule(result.final_url),
    )
    links = list(found.links)
    for child_url in found.children[:MAX_CHILD_SITEMAPS]:
        try:
            child = await ctx.fetcher.get(child_url)
            content_type = child.headers.get("content-type")
            child_found = await asyncio.to_thread(discover_all, child.body, content_type, child.final_url)
            links.extend(child_found.links)
        except (FetchError, DiscoveryError) as exc:
            log.warning("child sitemap %s skipped: %s", child_url, exc)
    return links, hub_links(result.headers, found.hubs, result.final_url)


def front_page_rule(url: str) -> Callable[[str], bool] | None:
    """The outlet's own article-URL rule for its front page; None lets discovery use its generic guess."""
    parser = parser_for(url)
    return None if parser is None else parser.is_article_url


def _newest_first(link: Link) -> tuple[bool, float]:
    """Dated items newest first, then undated ones (in feed order: the sort is stable)."""
    return (link.published is None, -link.published.timestamp() if link.published else 0.0)


def wanted_urls(links: list[Link], exclude: tuple[str, ...], limit: int) -> dict[str, Link]:
    """The `limit` newest canonical article URLs the feed names, minus the source's exclusions, each once."""
    url_filter = UrlFilter(exclude)
    wanted: dict[str, Link] = {}
    for link in sorted(links, key=_newest_first):
        if len(wanted) == limit:
            break
        url = canonicalize_url(link.url)
        if url not in wanted and url_filter.allows(url) and is_article_url(url):
            wanted[url] = link
    return wanted


async def _track_links(
    ctx: CrawlContext, snapshot: FeedSnapshot, links: list[Link], lease: LeaseKeeper
) -> int:
    """Track the wanted URLs a batch at a time on a worker thread; stop if the lease is lost."""
    if len(links) > ctx.feed_max_items:
        log.warning(
            "feed %s names %d items; only the newest %d are read",
            snapshot.url,
            len(links),
            ctx.feed_max_items,
        )
    wanted = await asyncio.to_thread(wanted_urls, links, snapshot.exclude, ctx.feed_max_items)
    now = ctx.clock()
    added = 0
    items = list(wanted.items())
    for start in range(0, len(items), TRACK_BATCH):
        if lease.lost:
            break
        batch = items[start : start + TRACK_BATCH]
        added += await asyncio.to_thread(_track_batch, ctx, snapshot.feed_id, batch, now)
    return added


def _track_batch(ctx: CrawlContext, feed_id: int, batch: Sequence[tuple[str, Link]], now: datetime) -> int:
    with ctx.sessions.begin() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            return 0
        return track_links(session, feed, batch, now, initial_period=ctx.policy.initial)


def track_links(
    session: Session,
    feed: Feed,
    batch: Sequence[tuple[str, Link]],
    now: datetime,
    *,
    initial_period: timedelta,
    origin: str = "feed",
) -> int:
    """Track the new URLs for the feed's source and note the known ones' signals (from `origin`, a poll or a
    WebSub notification); return how many were added."""
    known = known_urls(session, [url for url, _ in batch])
    signals = {url: link.modified for url, link in batch if url in known and link.modified is not None}
    apply_signals(session, signals, now, origin=origin)
    added = 0
    for url, link in batch:
        if url in known:
            continue
        _, created = track_article(
            session,
            url,
            feed.source,
            now,
            guid=link.guid,
            published=link.published,
            initial_period=initial_period,
        )
        added += created
    return added


def _period(feed: Feed) -> timedelta:
    return timedelta(seconds=feed.period_seconds)


def _held_feed(session: Session, feed_id: int, lease: Lease | None) -> Feed | None:
    """The feed, locked, if this poll still holds its lease (or polled it without one)."""
    feed = session.get(Feed, feed_id, with_for_update=True)
    return feed if feed is not None and still_held(feed, lease) else None


def _record_success(
    ctx: CrawlContext, feed_id: int, lease: Lease | None, *, result: FetchResult, hubs: HubLinks | None
) -> None:
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        feed = _held_feed(session, feed_id, lease)
        if feed is None:
            return
        if not result.not_modified:
            feed.etag, feed.last_modified = result.etag, result.last_modified
            note_hubs(session, feed, hubs, result.final_url, now)
        feed.last_checked_at = feed.last_success_at = now
        feed.next_check_at = now + _period(feed)
        feed.error_streak = 0
        feed.last_error = None
        drop_lease(feed)


def _record_feed_error(ctx: CrawlContext, feed_id: int, lease: Lease | None, *, message: str) -> None:
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        feed = _held_feed(session, feed_id, lease)
        if feed is None:
            return
        feed.error_streak += 1
        feed.last_error = message[:2000]
        feed.last_checked_at = now
        feed.next_check_at = now + max(_period(feed), ctx.policy.error_delay(feed.error_streak))
        drop_lease(feed)
