"""The check log's database growth per unchanged check over a simulated month of re-checks.

    .venv/bin/python bench/check_log.py [--articles-per-day N] [--days D] [--backend sqlite|postgresql]
                                        [--run before|now]

New articles arrive evenly (N a day, a research deployment's 100,000 scaled down) and are re-checked on News
Sniffer's schedule (newsdelta.schedule.BackoffPolicy: 30 minutes, ×1.2 after each unchanged check) on a
simulated clock, in 10-minute passes as `newsdelta crawl` wakes. Every re-check goes through the crawl's own
code for a check that stored nothing (claim_due, load_snapshots, NoChangeLog → record_no_change) and each
pass ends with the crawl's pruning; no HTTP, no extraction, no versions beyond the first check's. Measured at
the month's end: the bytes of `article_check`, `check_span` and `check_count` with their indexes (SQLite:
dbstat pages; PostgreSQL: pg_total_relation_size, with autovacuum's VACUUM run once a simulated day), per
unchanged check. "Before" is the same month with a row for every check, all kept, and only `article_check`
(the log before 0009).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from unittest import mock

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.crawl import CrawlContext
from newsdelta.crawl.check import NoChange, NoChangeLog, load_snapshots
from newsdelta.crawl.loop import prune_check_log
from newsdelta.store import checklog
from newsdelta.store.checklog import CheckRetention, LoggedCheck
from newsdelta.store.db import open_database
from newsdelta.store.leases import claim_due
from newsdelta.store.models import Article, Check, CheckSpan
from newsdelta.store.repository import get_or_create_source

START = datetime(2026, 3, 1, tzinfo=UTC)
TICK = timedelta(minutes=10)
FIRST_PERIOD = timedelta(minutes=30)
KEEP_ALL = CheckRetention(detail=timedelta(days=3650), errors=timedelta(days=3650))
TABLES = ("article_check", "check_span", "check_count")
PER_DAY = 40


@dataclass(frozen=True, slots=True)
class Month:
    articles: int
    rechecks: int
    detailed_rows: int
    spans: int
    log_bytes: int  # article_check, check_span and check_count with their indexes
    file_bytes: int | None  # SQLite: the whole file
    # At mid-month: the second half's growth is the log's pace once the window of rows has filled.
    mid_rechecks: int
    mid_log_bytes: int

    @property
    def second_half(self) -> float:
        return (self.log_bytes - self.mid_log_bytes) / (self.rechecks - self.mid_rechecks)


def _add_arrivals(sessions: sessionmaker[Session], first: int, count: int, now: datetime) -> None:
    """New articles, each with its first check (which stored version 0), due again in 30 minutes."""
    with sessions.begin() as session:
        source = get_or_create_source(session, "outlet", START)
        articles = [
            Article(
                source=source,
                url=f"https://outlet.example/news/{n}",
                first_seen_at=now,
                check_period_seconds=FIRST_PERIOD.total_seconds(),
                next_check_at=now + FIRST_PERIOD,
                last_checked_at=now,
                current_hash=f"{n:064x}",
                version_count=1,
            )
            for n in range(first, first + count)
        ]
        session.add_all(articles)
        session.flush()
        checks = [LoggedCheck(article.id, now, "new_version", 200, 0) for article in articles]
        checklog.log_checks(session.connection(), checks)


def _recheck_due(ctx: CrawlContext, now: datetime) -> int:
    """One pass of re-checks that found nothing new: two in three a 304, the rest the same bytes."""
    with ctx.sessions() as session:
        ids = claim_due(session, Article, now, limit=100_000, lease=ctx.lease, owner=ctx.owner)
        snapshots = load_snapshots(session, ids, ctx.owner)
    log = NoChangeLog(ctx)
    for article_id, snapshot in snapshots.items():
        not_modified = article_id % 3
        log.add(
            NoChange(
                snapshot, now, "not_modified" if not_modified else "unchanged", 304 if not_modified else 200
            )
        )
    log.flush()
    return len(snapshots)


def simulate(
    sessions: sessionmaker[Session],
    retention: CheckRetention,
    *,
    per_day: int,
    days: int,
    measure: Callable[[sessionmaker[Session], tuple[str, ...]], tuple[int, int | None]],
    daily: Callable[[sessionmaker[Session]], None] = lambda _sessions: None,
    tables: tuple[str, ...] = TABLES,
) -> Month:
    clock = [START]
    ctx = CrawlContext(
        sessions=sessions, fetcher=cast(Any, None), clock=lambda: clock[0], check_retention=retention
    )
    arrived = rechecks = mid_rechecks = mid_bytes = 0
    ticks_per_day = timedelta(days=1) // TICK
    for tick in range(days * ticks_per_day):
        now = START + tick * TICK
        clock[0] = now
        due_arrivals = per_day * (tick + 1) // ticks_per_day - arrived
        if due_arrivals:
            _add_arrivals(sessions, arrived, due_arrivals, now)
            arrived += due_arrivals
        rechecks += _recheck_due(ctx, now)
        prune_check_log(ctx)
        if (tick + 1) % ticks_per_day == 0:
            daily(sessions)
        if tick + 1 == days * ticks_per_day // 2:
            mid_rechecks, mid_bytes = rechecks, measure(sessions, tables)[0]
    with sessions() as session:
        rows = session.scalar(select(func.count()).select_from(Check)) or 0
        spans = session.scalar(select(func.count()).select_from(CheckSpan)) or 0
    log_bytes, file_bytes = measure(sessions, tables)
    return Month(arrived, rechecks, rows, spans, log_bytes, file_bytes, mid_rechecks, mid_bytes)


def sqlite_sizes(sessions: sessionmaker[Session], tables: tuple[str, ...]) -> tuple[int, int | None]:
    """Pages of the tables and their indexes (dbstat), and the file (freed pages are reused, not returned)."""
    with sessions() as session:
        names = list(tables) + [
            name
            for table in tables
            for name in session.scalars(
                text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table"),
                {"table": table},
            )
        ]
        used = sum(
            session.scalar(
                text("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :name"), {"name": name}
            )
            for name in names
        )
        pages = session.scalar(text("PRAGMA page_count")) * session.scalar(text("PRAGMA page_size"))
    return used, pages


def postgres_sizes(sessions: sessionmaker[Session], tables: tuple[str, ...]) -> tuple[int, int | None]:
    with sessions() as session:
        total = sum(
            session.scalar(text("SELECT pg_total_relation_size(:table)"), {"table": table})
            for table in tables
        )
    return total, None


def postgres_vacuum(sessions: sessionmaker[Session]) -> None:
    """What autovacuum does to a table with this many deletes: freed space becomes reusable."""
    engine = sessions.kw["bind"]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM {', '.join(TABLES)}"))


def report(backend: str, name: str, month: Month, retention: CheckRetention) -> None:
    kept = (
        "a row per check, all kept (before 0009)"
        if name == "before"
        else f"spans, counters, {retention.detail.days}-day rows"
    )
    file = f"; whole file {month.file_bytes / 1e6:.1f} MB" if month.file_bytes else ""
    print(
        f"  {backend:10} {kept:40} {month.log_bytes / month.rechecks:6.1f} B per unchanged check over the month, "
        f"{month.second_half:6.1f} B in its second half ({month.rechecks:,} re-checks of {month.articles:,} "
        f"articles; {month.detailed_rows:,} rows and {month.spans:,} spans left, {month.log_bytes / 1e6:.1f} MB{file})"
    )


RUNS = {"before": KEEP_ALL, "now": CheckRetention(), "one-day": CheckRetention(detail=timedelta(days=1))}


@contextmanager
def every_check_a_row(name: str) -> Iterator[None]:
    """Before 0009 every check, an unchanged one too, was a row."""
    if name != "before":
        yield
        return
    with mock.patch.object(checklog, "SAME_AS_BEFORE", ()):
        yield


def run_month(backend: str, name: str, per_day: int, days: int) -> None:
    """One month on a fresh database of `backend` (sqlite or postgresql), with the `name`d retention."""
    with every_check_a_row(name):
        _run_month(backend, name, per_day, days)


def _run_month(backend: str, name: str, per_day: int, days: int) -> None:
    retention = RUNS[name]
    tables = ("article_check",) if name == "before" else TABLES
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            sessions = open_database(f"sqlite:///{Path(tmp) / 'month.sqlite3'}")
            month = simulate(
                sessions, retention, per_day=per_day, days=days, measure=sqlite_sizes, tables=tables
            )
            sessions.kw["bind"].dispose()
    else:
        month = _postgres_month(name, retention, per_day, days, tables)
    report(backend, name, month, retention)


def _postgres_month(
    name: str, retention: CheckRetention, per_day: int, days: int, tables: tuple[str, ...]
) -> Month:
    import psycopg

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    database = f"newsdelta_bench_checklog_{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    sessions = open_database(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        return simulate(
            sessions,
            retention,
            per_day=per_day,
            days=days,
            measure=postgres_sizes,
            daily=postgres_vacuum,
            tables=tables,
        )
    finally:
        sessions.kw["bind"].dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def month_of_rechecks(per_day: int, days: int, backends: tuple[str, ...], runs: tuple[str, ...]) -> None:
    print(f"check log, simulated {days}-day month, {per_day} new articles a day, News Sniffer's schedule:")
    for backend in backends:
        for name in runs:
            run_month(backend, name, per_day, days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles-per-day", type=int, default=PER_DAY)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append", help="Default: both.")
    parser.add_argument("--run", choices=tuple(RUNS), action="append", help="Default: all.")
    args = parser.parse_args()
    backends = tuple(args.backend or ("sqlite", "postgresql"))
    month_of_rechecks(args.articles_per_day, args.days, backends, tuple(args.run or RUNS))


if __name__ == "__main__":
    main()
