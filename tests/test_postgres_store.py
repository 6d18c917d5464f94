"""The store and the crawl on PostgreSQL: the same behaviours as on SQLite, plus the concurrency guarantees.

Each test session gets its own database (newsdelta_test_<pid>_<n>, dropped afterwards), emptied per test.
`crawl_day`, `day_outcome` and `assert_matches_script` are shared with tests/test_distributed.py.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from conftest import service_up
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from test_checklog import assert_log_reads_as_its_rows, recording_checks

from newsdelta.config import Settings
from newsdelta.crawl import check_article, run_pass
from newsdelta.runtime import make_context, make_fetcher
from newsdelta.store.checklog import flipflop_counts
from newsdelta.store.db import open_database
from newsdelta.store.leases import claim_due
from newsdelta.store.models import Article, Check, Feed, Version
from newsdelta.store.repository import add_feed, get_or_create_source, track_article
from newsdelta.testing.default_day import DAY_START
from newsdelta.testing.newsroom import Newsroom

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# The newsroom's scripted day is built so that a crawler waking every 10 minutes sees every revision
# (tests/test_newsroom.py proves it), so the simulated day advances in 10-minute ticks.
TICK = timedelta(minutes=10)
DAY = timedelta(hours=24)
FEEDS = ("/rss.xml", "/sitemap.xml")
_databases = itertools.count()

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not service_up("127.0.0.1", 5432), reason="PostgreSQL is not reachable on 127.0.0.1:5432"
    ),
]


def create_database() -> str:
    """A fresh, migrated database; its URL."""
    name = f"newsdelta_test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        # Throw-away data: no need to wait for each commit to reach the disk.
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    open_database(url).kw["bind"].dispose()
    return url


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_tables(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        names = session.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).all()
        session.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
def pg_sessions(pg_database: str) -> Iterator[sessionmaker[Session]]:
    sessions = open_database(pg_database, migrate=False)
    empty_tables(sessions)
    yield sessions
    sessions.kw["bind"].dispose()


def add_newsroom_feeds(sessions: sessionmaker[Session], newsroom: Newsroom) -> None:
    with sessions.begin() as session:
        for path in FEEDS:
            add_feed(session, newsroom.url(path), "newsroom", timedelta(minutes=5), (), newsroom.clock.now())


def ticks(start: datetime = DAY_START) -> Iterator[datetime]:
    moment = start
    while moment <= start + DAY:
        yield moment
        moment += TICK


def crawl_day(sessions: sessionmaker[Session], newsroom: Newsroom, settings: Settings) -> None:
    """The reference: the in-process crawl (`newsdelta crawl`) over the scripted day, one pass per tick."""

    async def run() -> None:
        async with make_fetcher(settings) as fetcher:
            ctx = make_context(settings, sessions, fetcher, clock=newsroom.clock.now)
            for moment in ticks():
                newsroom.clock.set(moment)
                await run_pass(ctx, concurrency=8)

    add_newsroom_feeds(sessions, newsroom)
    asyncio.run(run())


def day_outcome(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Per article URL: its versions (number, origin, hash), state and flip-flop count; what two runs compare."""
    outcome: dict[str, Any] = {}
    with sessions() as session:
        flip_flops = flipflop_counts(session)  # from the spans, as the reader's pages count them
        for article in session.scalars(select(Article).order_by(Article.url)):
            versions = session.execute(
                select(Version.number, Version.origin, Version.text_hash)
                .where(Version.article_id == article.id)
                .order_by(Version.number)
            ).all()
            outcome[article.url] = {
                "versions": [tuple(row) for row in versions],
                "state": article.state,
                "flip_flops": flip_flops.get(article.id, 0),
            }
    return outcome


@dataclass(frozen=True)
class CrawledDay:
    """A crawl's result and the newsroom's truth at the end of the day, keyed by URL path (ports differ)."""

    outcome: dict[str, Any]
    truth: dict[str, Any]
    disallowed_requests: int


def crawled_day(sessions: sessionmaker[Session], newsroom: Newsroom) -> CrawledDay:
    newsroom.clock.set(DAY_START + DAY)
    truth = newsroom.truth(with_paragraphs=False)["articles"]
    requests = sum(len(newsroom.requests_for(path)) for path in newsroom.disallowed_paths())
    return CrawledDay(by_path(day_outcome(sessions)), by_path(truth), requests)


def by_path(by_url: dict[str, Any]) -> dict[str, Any]:
    return {urlsplit(url).path: data for url, data in by_url.items()}


def assert_matches_script(day: CrawledDay) -> None:
    """Exactly the scripted versions, flip-flops and removals; robots-disallowed pages never requested."""
    for path, expected in day.truth.items():
        if expected["disallowed"]:
            assert path not in day.outcome or not day.outcome[path]["versions"], path
            continue
        stored = day.outcome[path]
        fetched = [digest for _, origin, digest in stored["versions"] if origin == "fetch"]
        assert fetched == [version["hash"] for version in expected["versions"]], path
        assert stored["flip_flops"] == expected["flip_flops"], path
        assert (stored["state"] == "gone") == expected["gone"], path
    disallowed = {path for path, expected in day.truth.items() if expected["disallowed"]}
    assert set(day.outcome) - disallowed == set(day.truth) - disallowed
    assert day.disallowed_requests == 0


@functools.cache
def single_process_day() -> CrawledDay:
    """What `newsdelta crawl` stores for the scripted day on PostgreSQL; computed once per test session and
    also the reference for the distributed crawl (tests/test_distributed.py)."""
    url = create_database()
    sessions = open_database(url, migrate=False)
    try:
        with Newsroom(slow_delay=0.2) as newsroom, recording_checks() as checks:
            crawl_day(sessions, newsroom, quick_settings())
            day = crawled_day(sessions, newsroom)
        # The day's log read from its spans and counters answers as a row per check did (tests/test_checklog.py).
        assert_log_reads_as_its_rows(sessions, checks)
        return day
    finally:
        sessions.kw["bind"].dispose()
        drop_database(url)


def quick_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"per_host_delay": 0.0, "per_host_concurrency": 4, **overrides}
    return Settings(**values)


def test_scripted_day_on_postgres_stores_exactly_the_scripted_versions() -> None:
    assert_matches_script(single_process_day())


def _track(sessions: sessionmaker[Session], count: int, now: datetime) -> list[int]:
    with sessions.begin() as session:
        source = get_or_create_source(session, "test", now)
        articles = [
            track_article(session, f"https://example.org/news/{n}", source, now, initial_period=TICK)[0]
            for n in range(count)
        ]
        session.flush()
        return [article.id for article in articles]


def test_concurrent_claims_are_disjoint_and_skip_locked_rows(pg_sessions: sessionmaker[Session]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ids = _track(pg_sessions, 30, now)
    with pg_sessions() as holder:
        # A claim in progress elsewhere: its rows are locked, not yet leased.
        locked = holder.scalars(select(Article.id).order_by(Article.id).limit(10).with_for_update()).all()
        with pg_sessions() as a, pg_sessions() as b:
            first = claim_due(a, Article, now, limit=15, lease=timedelta(minutes=1), owner="a")
            second = claim_due(b, Article, now, limit=15, lease=timedelta(minutes=1), owner="b")
        holder.rollback()
    assert not set(first) & set(second)
    assert not (set(first) | set(second)) & set(locked)
    assert sorted(first + second) == ids[10:]


def test_expired_lease_comes_back_and_a_stale_owner_changes_nothing(
    pg_sessions: sessionmaker[Session],
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    [article_id] = _track(pg_sessions, 1, now)
    lease = timedelta(minutes=10)
    with pg_sessions() as session:
        assert claim_due(session, Article, now, limit=5, lease=lease, owner="dead") == [article_id]
        assert claim_due(session, Article, now + timedelta(minutes=5), limit=5, lease=lease, owner="x") == []
        later = now + lease + timedelta(seconds=1)
        assert claim_due(session, Article, later, limit=5, lease=lease, owner="alive") == [article_id]

    async def stale_check() -> str:
        async with make_fetcher(quick_settings()) as fetcher:
            ctx = make_context(quick_settings(), pg_sessions, fetcher, owner="dead")
            return await check_article(ctx, article_id)

    assert asyncio.run(stale_check()) == "skipped"
    with pg_sessions() as session:
        article = session.get(Article, article_id)
        assert article is not None and article.lease_owner == "alive" and article.version_count == 0
        assert session.scalar(select(text("count(*)")).select_from(Check)) == 0


def test_unique_constraints_refuse_a_second_copy_of_a_version(pg_sessions: sessionmaker[Session]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    [article_id] = _track(pg_sessions, 1, now)

    def version(number: int, digest: str) -> Version:
        return Version(
            article_id=article_id,
            number=number,
            origin="fetch",
            title="t",
            paragraphs=["p"],
            text_hash=digest,
            fetched_at=now,
            http_status=200,
        )

    with pg_sessions.begin() as session:
        session.add(version(0, "a" * 64))
    for duplicate in (version(0, "b" * 64), version(1, "a" * 64)):
        with pytest.raises(IntegrityError), pg_sessions.begin() as session:
            session.add(duplicate)
    with pg_sessions() as session:
        assert session.scalar(select(text("count(*)")).select_from(Version)) == 1


def test_due_query_uses_the_due_index(pg_sessions: sessionmaker[Session]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pg_sessions.begin() as session:
        source = get_or_create_source(session, "bulk", now)
        session.flush()
        rows = [
            {
                "source_id": source.id,
                "url": f"https://example.org/a/{n}",
                "first_seen_at": now,
                "state": "live",
                "check_period_seconds": 1800.0,
                "next_check_at": now + timedelta(seconds=n),
                "error_streak": 0,
                "version_count": 0,
                "hidden": False,
            }
            for n in range(20_000)
        ]
        session.execute(insert(Article), rows)
        session.execute(text("ANALYZE article"))
    with pg_sessions() as session:
        plan = session.execute(
            text(
                "EXPLAIN SELECT id FROM article WHERE next_check_at <= :now AND (lease_until IS NULL OR"
                " lease_until < :now) ORDER BY next_check_at LIMIT 500 FOR UPDATE SKIP LOCKED"
            ),
            {"now": now + timedelta(seconds=600)},
        ).all()
    assert "ix_article_due" in " ".join(row[0] for row in plan)


def test_feeds_claimed_once_until_their_lease_expires(pg_sessions: sessionmaker[Session]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pg_sessions.begin() as session:
        add_feed(session, "https://example.org/rss.xml", "test", timedelta(minutes=5), (), now)
    lease = timedelta(minutes=5)
    with pg_sessions() as session:
        [feed_id] = claim_due(session, Feed, now, limit=10, lease=lease, owner="a")
        assert claim_due(session, Feed, now + timedelta(minutes=1), limit=10, lease=lease, owner="b") == []
        assert claim_due(session, Feed, now + lease * 2, limit=10, lease=lease, owner="c") == [feed_id]
