"""Driving a crawl through the newsroom's scripted time, for the tests, the demo and the benchmarks.

The crawler's clock is the newsroom's clock, and time jumps straight to the next moment anything is due, so a
scripted day takes seconds and every check happens exactly when the schedule says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from newsdelta.crawl import CrawlContext, PassStats, run_pass
from newsdelta.crawl.loop import next_due
from newsdelta.store import checklog, queries
from newsdelta.store.repository import add_feed
from newsdelta.testing.newsroom import Newsroom

NEWSROOM_FEEDS = ("/rss.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/")


def register_newsroom(
    sessions: sessionmaker[Session], newsroom: Newsroom, *, source: str = "newsroom", period: float = 300.0
) -> None:
    """Add every way the newsroom announces articles as feeds of one source."""
    with sessions.begin() as session:
        for path in NEWSROOM_FEEDS:
            add_feed(session, newsroom.url(path), source, timedelta(seconds=period), (), newsroom.clock.now())


async def crawl_until(
    ctx: CrawlContext,
    newsroom: Newsroom,
    until: datetime,
    *,
    concurrency: int = 8,
    on_pass: Callable[[PassStats], None] | None = None,
    pace: float = 0.0,
) -> PassStats:
    """Run passes, jumping the shared clock to each next due moment, until `until`; return summed figures.

    The newsroom's WebSub hub verifies what the pass asked of it; while it has subscribers, the clock also
    stops at each scripted change, where the hub delivers the changed feeds, as a real one would at once.
    `pace` is real seconds to wait per scripted second, so a demo can let a day pass in a minute.
    """
    total = PassStats()
    hub = newsroom.hub
    while True:
        stats = await run_pass(ctx, concurrency=concurrency)
        total.feeds_polled += stats.feeds_polled
        total.articles_added += stats.articles_added
        total.outcomes.update(stats.outcomes)
        if on_pass is not None:
            on_pass(stats)
        if hub is not None and stats.hub_requests:
            await asyncio.to_thread(hub.verify_pending)
        due = _earliest(next_due(ctx.sessions), newsroom.next_change() if hub and hub.subscribers() else None)
        if due is None or due > until:
            newsroom.clock.set(until)
            return total
        due = max(due, newsroom.clock.now())
        if pace:
            await asyncio.sleep((due - newsroom.clock.now()).total_seconds() * pace)
        newsroom.clock.set(due)
        if hub is not None:
            await asyncio.to_thread(hub.publish)


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((moment for moment in moments if moment is not None), default=None)


def stored_history(sessions: sessionmaker[Session], source: str = "newsroom") -> dict[str, dict[str, Any]]:
    """What the store holds per article URL: versions (title, paragraphs, origin), flip-flops, state."""
    with sessions() as session:
        flip_flops = checklog.flipflop_counts(session)
        articles = queries.tracked_articles(session, source=source)
        return {
            article.url: {
                "id": article.id,
                "state": article.state,
                "flip_flops": flip_flops.get(article.id, 0),
                "versions": [(v.origin, v.title, tuple(v.paragraphs)) for v in article.versions],
            }
            for article in articles
        }
