"""Polling a feed (RSS, Atom, JSON Feed, sitemap or front page): every new article URL becomes a tracked article."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from newsdelta.crawl.context import CrawlContext
from newsdelta.discovery import DiscoveryError, Link, UrlFilter, canonicalize_url
from newsdelta.discovery.sniff import discover_all
from newsdelta.extract import is_article_url, parser_for
from newsdelta.fetch import FetchError, FetchResult
from newsdelta.store.models import Feed
from newsdelta.store.repository import track_article

log = logging.getLogger(__name__)

# A sitemap index can name thousands of children; more than this per poll is a crawl of its own.
MAX_CHILD_SITEMAPS = 50


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    feed_id: int
    url: str
    etag: str | None
    last_modified: str | None
    exclude: tuple[str, ...]


async def poll_feed(ctx: CrawlContext, feed_id: int) -> int:
    """Poll one leased feed; return how many articles it added."""
    with ctx.sessions() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            return 0
        snapshot = FeedSnapshot(
            feed.id, feed.url, feed.etag, feed.last_modified, tuple(feed.exclude_patterns)
        )
    try:
        result = await ctx.fetcher.get(snapshot.url, etag=snapshot.etag, last_modified=snapshot.last_modified)
        if result.status >= 400:
            raise FetchError(f"HTTP {result.status}")
        links = [] if result.not_modified else await _links(ctx, result)
    except (FetchError, DiscoveryError) as exc:
        log.warning("feed %s failed: %s", snapshot.url, exc)
        _record_feed_error(ctx, snapshot.feed_id, str(exc))
        return 0
    return _record_links(ctx, snapshot, result, links)


async def _links(ctx: CrawlContext, result: FetchResult) -> list[Link]:
    """The page's links; for a sitemap index, also the links of its child sitemaps (bounded)."""
    found = discover_all(
        result.body, result.headers.get("content-type"), result.final_url, front_page_rule(result.final_url)
    )
    links = list(found.links)
    for child_url in found.children[:MAX_CHILD_SITEMAPS]:
        try:
            child = await ctx.fetcher.get(child_url)
            links.extend(discover_all(child.body, child.headers.get("content-type"), child.final_url).links)
        except (FetchError, DiscoveryError) as exc:
            log.warning("child sitemap %s skipped: %s", child_url, exc)
    return links


def front_page_rule(url: str) -> Callable[[str], bool] | None:
    """The outlet's own article-URL rule for its front page; None lets discovery use its generic guess."""
    parser = parser_for(url)
    return None if parser is None else parser.is_article_url


def wanted_urls(links: list[Link], exclude: tuple[str, ...]) -> dict[str, Link]:
    """Canonical article URLs the feed names, minus the source's exclusions, each once."""
    url_filter = UrlFilter(exclude)
    wanted: dict[str, Link] = {}
    for link in links:
        url = canonicalize_url(link.url)
        if url not in wanted and url_filter.allows(url) and is_article_url(url):
            wanted[url] = link
    return wanted


def _record_links(ctx: CrawlContext, snapshot: FeedSnapshot, result: FetchResult, links: list[Link]) -> int:
    now = ctx.clock()
    added = 0
    with ctx.sessions.begin() as session:
        feed = session.get(Feed, snapshot.feed_id)
        if feed is None:
            return 0
        for url, link in wanted_urls(links, snapshot.exclude).items():
            _, created = track_article(
                session,
                url,
                feed.source,
                now,
                guid=link.guid,
                published=link.published,
                initial_period=ctx.policy.initial,
            )
            added += created
        if not result.not_modified:
            feed.etag, feed.last_modified = result.etag, result.last_modified
        feed.last_checked_at = feed.last_success_at = now
        feed.next_check_at = now + _period(feed)
        feed.error_streak = 0
        feed.last_error = None
        feed.lease_until = None
    return added


def _period(feed: Feed) -> timedelta:
    return timedelta(seconds=feed.period_seconds)


def _record_feed_error(ctx: CrawlContext, feed_id: int, message: str) -> None:
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            return
        feed.error_streak += 1
        feed.last_error = message[:2000]
        feed.last_checked_at = now
        feed.next_check_at = now + max(_period(feed), ctx.policy.error_delay(feed.error_streak))
        feed.lease_until = None
