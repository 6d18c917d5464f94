"""Driving a crawl through the newsroom's scripted time, for the tests, the demo and the benchmarks.

The crawler's clock is the newsroom's clock, and time jumps straight to the next moment anything is due, so a
scripted day takes seconds and every check happens exactly when the schedule says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.crawl import CrawlContext, PassStats, run_pass
from newsdelta.crawl.loop import next_due
from newsdelta.store.checklog import flipflop_counts
from newsdelta.store.models import Article, Source, Version
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

    `pace` is real seconds to wait per scripted second, so a demo can let a day pass in a minute.
    """
    total = PassStats()
    while True:
        stats = await run_pass(ctx, concurrency=concurrency)
        total.feeds_polled += stats.feeds_polled
        total.articles_added += stats.articles_added
        total.outcomes.update(stats.outcomes)
        if on_pass is not None:
            on_pass(stats)
        due = next_due(ctx.sessions)
        if due is None or due > until:
            newsroom.clock.set(until)
            return total
        due = max(due, newsroom.clock.now())
        if pace:
            await asyncio.sleep((due - newsroom.clock.now()).total_seconds() * pace)
        newsroom.clock.set(due)


def stored_history(sessions: sessionmaker[Session], source: str = "newsroom") -> dict[str, dict[str, Any]]:
    """What the store holds per article URL: versions (title, paragraphs, origin), flip-flops, state."""
    with sessions() as session:
        flip_flops = flipflop_counts(session)
        articles = session.scalars(select(Article).join(Source).where(Source.name == source)).all()
        return {
            article.url: {
                "id": article.id,
                "state": article.state,
                "flip_flops": flip_flops.get(article.id, 0),
                "versions": [
                    (v.origin, v.title, tuple(v.paragraphs))
                    for v in session.scalars(
                        select(Version).where(Version.article_id == article.id).order_by(Version.number)
                    )
                ],
            }
            for article in articles
        }
