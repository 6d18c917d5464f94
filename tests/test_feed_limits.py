"""A hostile feed of 100,000 items: the poll reads only the newest, never blocks the crawl's event loop, keeps
its lease while it works, and a poll that lost its lease anyway writes nothing."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crawl_support import fast_fetcher, sqlite_store
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import FEED_MAX_ITEMS, Settings
from newsdelta.crawl import CrawlContext, poll_feed
from newsdelta.crawl.check import check_article
from newsdelta.crawl.context import FEED_LEASE
from newsdelta.crawl.polling import wanted_urls
from newsdelta.discovery import Link
from newsdelta.runtime import make_context
from newsdelta.store.leases import claim_due
from newsdelta.store.models import Article, Feed
from newsdelta.store.repository import add_feed, get_or_create_source, track_article
from newsdelta.testing.httpserver import BackgroundServer, Request, Response

START = datetime(2026, 1, 1, tzinfo=UTC)
ARTICLE_HTML = (
    "<html><head><title>A story that stays</title></head><body><article><h1>A story that stays</h1>"
    + "".join(
        f"<p>Paragraph {n} of a story the crawl keeps checking while a huge feed is polled.</p>"
        for n in range(6)
    )
    + "</article></body></html>"
).encode()


def rss(items: list[tuple[str, datetime]]) -> bytes:
    entries = "".join(
        f"<item><link>{path}</link><pubDate>{at:%a, %d %b %Y %H:%M:%S} GMT</pubDate></item>"
        for path, at in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>huge</title>{entries}</channel></rss>'.encode()


@contextmanager
def serve(routes: dict[str, Response]) -> Iterator[str]:
    def handle(request: Request) -> Response:
        return routes.get(request.path, Response(404, b"not here"))

    server = BackgroundServer(handle, "127.0.0.1", 0)
    port = server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _setup(sessions: sessionmaker[Session], feed_url: str, lease: timedelta) -> int:
    """Add the feed and claim it, as the crawl loop or the scheduler does; return its id."""
    now = datetime.now(UTC)
    with sessions.begin() as session:
        add_feed(session, feed_url, "huge", timedelta(minutes=5), [], now)
    with sessions() as session:
        (feed_id,) = claim_due(session, Feed, now, limit=1, lease=lease, owner="crawler")
    return feed_id


@pytest.mark.slow
async def test_a_100000_item_feed_is_polled_within_its_lease_while_the_crawl_goes_on(tmp_path: Path) -> None:
    items = [(f"/a/{n}", START + timedelta(minutes=n)) for n in range(100_000)]
    items.append(("/story", START + timedelta(days=365)))  # also named by the feed, as its newest item
    random.Random(5).shuffle(items)  # newest first must come from the dates, not the order
    body = rss(items)
    routes = {"/feed.xml": Response(200, body, [("content-type", "application/rss+xml")])}
    routes["/story"] = Response(200, ARTICLE_HTML, [("content-type", "text/html; charset=utf-8")])
    sessions = sqlite_store(tmp_path)
    with serve(routes) as base:
        lease = timedelta(seconds=6)  # shorter than the poll: only extensions keep it
        ctx = CrawlContext(sessions, fast_fetcher(timeout=60), owner="crawler", feed_lease=lease)
        with sessions.begin() as session:  # tracked before, under another source, with its own schedule
            source = get_or_create_source(session, "outlet", START)
            story, _ = track_article(
                session, base + "/story", source, START, initial_period=timedelta(minutes=30)
            )
            story.guid = "outlet-guid"
        with sessions() as session:
            (story_id,) = claim_due(
                session, Article, datetime.now(UTC), limit=1, lease=ctx.lease, owner="crawler"
            )
        feed_id = _setup(sessions, base + "/feed.xml", lease)

        stolen: list[int] = []
        stall = 0.0

        done = threading.Event()

        def compete() -> None:
            """Another process (on a thread: it must not wait for this event loop) claiming every 0.5 s."""
            while not done.wait(0.5):
                with sessions() as session:
                    stolen.extend(
                        claim_due(session, Feed, datetime.now(UTC), limit=5, lease=lease, owner="other")
                    )

        async def watch_loop() -> None:
            nonlocal stall
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                stall, last = max(stall, now - last - 0.01), now

        competitor = threading.Thread(target=compete)
        competitor.start()
        watcher = asyncio.create_task(watch_loop())
        started = time.perf_counter()
        poll = asyncio.create_task(poll_feed(ctx, feed_id))
        outcome = await check_article(ctx, story_id)  # the crawl goes on while the feed is read
        checked_while_polling = not poll.done()
        added = await poll
        elapsed = time.perf_counter() - started
        done.set()
        competitor.join()
        watcher.cancel()

    assert outcome == "new_version" and checked_while_polling
    assert lease.total_seconds() < elapsed < FEED_LEASE.total_seconds()
    assert stolen == [], "another process claimed the feed mid-poll"
    assert stall < 5, f"the event loop was blocked for {stall:.1f} s"  # for the whole poll, before
    assert added == FEED_MAX_ITEMS - 1
    with sessions() as session:
        tracked = set(session.scalars(select(Article.url).where(Article.url != base + "/story")))
        assert tracked == {f"{base}/a/{n}" for n in range(100_000 - FEED_MAX_ITEMS + 1, 100_000)}
        kept = session.get(Article, story_id)
        assert (kept.source.name, kept.guid, kept.first_seen_at, kept.version_count) == (
            "outlet",
            "outlet-guid",
            START,
            1,
        )
        feed = session.get(Feed, feed_id)
        assert feed.lease_until is None and feed.last_error is None and feed.last_success_at is not None
        assert feed.next_check_at > datetime.now(UTC) + timedelta(minutes=4)  # its own period, not a lease


async def test_a_poll_that_lost_its_lease_writes_nothing(tmp_path: Path) -> None:
    body = rss([(f"/a/{n}", START + timedelta(minutes=n)) for n in range(50)])
    routes = {"/feed.xml": Response(200, body, [("content-type", "application/rss+xml")], delay=1.5)}
    sessions = sqlite_store(tmp_path)
    with serve(routes) as base:
        lease = timedelta(seconds=0.6)
        ctx = CrawlContext(sessions, fast_fetcher(), feed_lease=lease)
        feed_id = _setup(sessions, base + "/feed.xml", lease)
        poll = asyncio.create_task(poll_feed(ctx, feed_id))
        await asyncio.sleep(0.1)
        # The lease ran out under a stall and the feed was claimed again, by the same owner even: a new expiry.
        thief = datetime.now(UTC) + timedelta(minutes=5)
        with sessions.begin() as session:
            session.execute(update(Feed).where(Feed.id == feed_id).values(lease_until=thief))
        assert await poll == 0
    with sessions() as session:
        assert session.scalars(select(Article.id)).all() == []
        feed = session.get(Feed, feed_id)
        assert feed.lease_until == thief and feed.last_checked_at is None  # the new holder's, untouched


def test_wanted_urls_are_the_newest_article_urls_within_the_cap() -> None:
    def link(n: int, day: int | None) -> Link:
        return Link(
            f"https://outlet.example/news/{n}", published=None if day is None else START + timedelta(days=day)
        )

    links = [link(1, 1), link(2, None), link(3, 5), link(4, 3), link(5, None), link(6, 4)]
    excluded = ("/news/3$",)
    assert list(wanted_urls(links, excluded, 3)) == [f"https://outlet.example/news/{n}" for n in (6, 4, 1)]
    everything = list(wanted_urls(links, (), 100))
    assert everything == [
        f"https://outlet.example/news/{n}" for n in (3, 6, 4, 1, 2, 5)
    ]  # undated last, in order


def test_the_cap_is_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDELTA_FEED_MAX_ITEMS", "25")
    settings = Settings.from_env()
    ctx = make_context(settings, sqlite_store(tmp_path), fast_fetcher())
    assert settings.feed_max_items == ctx.feed_max_items == 25
    assert Settings().feed_max_items == FEED_MAX_ITEMS == 1000
