"""Scale-out figures: checks per second with 1 and 2 Celery worker processes, and the due-work claim at 1M rows.

    .venv/bin/python bench/scale.py [--articles 1500] [--rows 1000000]

Needs the machine's PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379, DB 14 is flushed). The peer in
the same run is newsdelta's own single-process crawl (`newsdelta crawl`) over the same newsroom and database
server, so the distributed dispatch's overhead and gain are measured, not guessed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import redis
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from newsdelta.config import Settings
from newsdelta.crawl import run_pass
from newsdelta.distributed import SchedulerOptions, run_scheduler
from newsdelta.runtime import make_context, make_fetcher
from newsdelta.store.db import open_database
from newsdelta.store.leases import claim_due
from newsdelta.store.models import Article
from newsdelta.store.repository import get_or_create_source, track_article

# The local newsroom serves on loopback, which newsdelta only fetches from when allowed to (SSRF guard).
os.environ.setdefault("NEWSDELTA_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BROKER = "redis://127.0.0.1:6379/14"
PER_HOST_CONCURRENCY = 32
WORKER = (
    "from newsdelta.config import Settings\n"
    "from newsdelta.distributed import run_worker\n"
    f'run_worker(Settings.from_env(per_host_concurrency={PER_HOST_CONCURRENCY}), concurrency=16, loglevel="WARNING")\n'
)


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def synthetic_newsroom(articles: int) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "newsdelta.testing.newsroom", "--articles", str(articles)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait()


def settings_for(db_url: str) -> Settings:
    return Settings(
        db_url=db_url, broker_url=BROKER, per_host_delay=0.0, per_host_concurrency=PER_HOST_CONCURRENCY
    )


def track_all(sessions: sessionmaker[Session], base_url: str, articles: int) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        source = get_or_create_source(session, "bench", now)
        for index in range(articles):
            url = f"{base_url}/news/story-{index:05d}"
            track_article(session, url, source, now, initial_period=timedelta(minutes=30))


def make_all_due(sessions: sessionmaker[Session]) -> datetime:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.execute(update(Article).values(next_check_at=now - timedelta(seconds=1)))
    return now


def checked_since(sessions: sessionmaker[Session], since: datetime) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).where(Article.last_checked_at >= since)) or 0


def timed_distributed_pass(settings: Settings, sessions: sessionmaker[Session], articles: int) -> float:
    """Checks per second while the scheduler feeds the running workers every due article once."""
    since = make_all_due(sessions)
    stop = threading.Event()
    started = time.perf_counter()
    scheduler = threading.Thread(
        target=run_scheduler,
        args=(settings,),
        kwargs={"stop": stop, "options": SchedulerOptions(interval=0.05)},
    )
    scheduler.start()
    try:
        while checked_since(sessions, since) < articles:
            time.sleep(0.05)
    finally:
        stop.set()
        scheduler.join()
    return articles / (time.perf_counter() - started)


def distributed_rates(db_url: str, base_url: str, articles: int, workers: int) -> tuple[float, float]:
    """(first checks/s, re-checks/s) with `workers` worker processes."""
    redis.Redis.from_url(BROKER).flushdb()
    settings = settings_for(db_url)
    sessions = open_database(db_url)
    track_all(sessions, base_url, articles)
    env = {**os.environ, "NEWSDELTA_DB": db_url, "NEWSDELTA_BROKER": BROKER, "NEWSDELTA_PER_HOST_DELAY": "0"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        time.sleep(3)  # worker start-up is not part of the figure
        first = timed_distributed_pass(settings, sessions, articles)
        recheck = timed_distributed_pass(settings, sessions, articles)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()
        sessions.kw["bind"].dispose()
    return first, recheck


def in_process_rates(db_url: str, base_url: str, articles: int) -> tuple[float, float]:
    """The peer: the same passes through `run_pass` in one process (one event loop, concurrency 16)."""
    settings = settings_for(db_url)
    sessions = open_database(db_url)
    track_all(sessions, base_url, articles)

    async def timed_pass() -> float:
        async with make_fetcher(settings) as fetcher:
            ctx = make_context(settings, sessions, fetcher)
            make_all_due(sessions)
            started = time.perf_counter()
            stats = await run_pass(ctx, concurrency=16)
            return stats.checks / (time.perf_counter() - started)

    try:
        return asyncio.run(timed_pass()), asyncio.run(timed_pass())
    finally:
        sessions.kw["bind"].dispose()


def bench_checks(articles: int) -> None:
    print(f"checks per second, synthetic newsroom of {articles} articles (PostgreSQL, Redis broker):")
    print(f"  {'dispatch':<34}{'first checks/s':>16}{'re-checks/s':>14}")
    with synthetic_newsroom(articles) as base_url:
        runs = [("newsdelta crawl (1 process)", None), ("scheduler + 1 worker process", 1)]
        runs.append(("scheduler + 2 worker processes", 2))
        for label, workers in runs:
            with scratch_database(f"newsdelta_bench_scale_{os.getpid()}") as db_url:
                open_database(db_url).kw["bind"].dispose()
                if workers is None:
                    first, recheck = in_process_rates(db_url, base_url, articles)
                else:
                    first, recheck = distributed_rates(db_url, base_url, articles, workers)
            print(f"  {label:<34}{first:>16.1f}{recheck:>14.1f}", flush=True)
            # Each run starts from unseen pages: move the newsroom on so edits and 304s recur.
            httpx.post(f"{base_url}/_control/advance", params={"seconds": 3600})


def fill_articles(sessions: sessionmaker[Session], rows: int, due: int) -> datetime:
    """`rows` articles, `due` of them due now, the rest spread over the next 40 days (as a live crawl is)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with sessions.begin() as session:
        source = get_or_create_source(session, "bulk", now)
        session.flush()
        session.execute(
            text(
                "INSERT INTO article (source_id, url, first_seen_at, state, check_period_seconds,"
                " next_check_at, error_streak, version_count, hidden)"
                " SELECT :source, 'https://bulk.example/news/' || n, :now, 'live', 1800,"
                " CASE WHEN n <= :due THEN :now - make_interval(secs => n)"
                " ELSE :now + make_interval(secs => (n::bigint * 3457) % 3456000) END, 0, 0, false"
                " FROM generate_series(1, :rows) AS n"
            ),
            {"source": source.id, "now": now, "due": due, "rows": rows},
        )
    with sessions.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE article"))
    return now


def claim_timings(sessions: sessionmaker[Session], now: datetime, in_flight: int) -> list[float]:
    """Milliseconds per claim_due of 500 (commit included) while `in_flight` claimed rows await their checks;
    each timed batch is then checked off (rescheduled) untimed, as the workers would."""
    lease = timedelta(minutes=10)
    with sessions() as session:
        held = (
            claim_due(session, Article, now, limit=in_flight, lease=lease, owner="held") if in_flight else []
        )
        timings = []
        for n in range(20):
            began = time.perf_counter()
            claimed = claim_due(session, Article, now, limit=500, lease=lease, owner=f"batch{n}")
            timings.append((time.perf_counter() - began) * 1000)
            assert len(claimed) == 500
            checked_off(session, claimed, now)
        checked_off(session, held, now)
    return timings


def checked_off(session: Session, ids: list[int], now: datetime) -> None:
    session.execute(
        update(Article)
        .where(Article.id.in_(ids))
        .values(lease_until=None, lease_owner=None, next_check_at=now + timedelta(minutes=30))
    )
    session.commit()


def captured_sql(sessions: sessionmaker[Session], now: datetime) -> tuple[str, dict[str, object]]:
    """The exact statement claim_due sends, to EXPLAIN it."""
    seen: list[tuple[str, object]] = []
    engine = sessions.kw["bind"]

    def capture(conn: object, cursor: object, statement: str, parameters: object, *_: object) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    with sessions() as session:
        claim_due(session, Article, now, limit=500, lease=timedelta(minutes=10), owner="explain")
    event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = next((s, p) for s, p in seen if s.lstrip().upper().startswith("UPDATE"))
    return statement, parameters  # type: ignore[return-value]


def bench_claim(rows: int, fillfactor: int) -> None:
    """Bulk-loaded pages are full, so the claim's UPDATE cannot keep rows on their page (no HOT update) and
    touches every index; a live table, rewritten by every check, has room. Both are measured."""
    due = rows // 10
    with scratch_database(f"newsdelta_bench_claim_{os.getpid()}") as db_url:
        sessions = open_database(db_url)
        with sessions.begin() as session:
            session.execute(text(f"ALTER TABLE article SET (fillfactor = {fillfactor})"))
        started = time.perf_counter()
        now = fill_articles(sessions, rows, due)
        print(
            f"\ndue-work claim on PostgreSQL: {rows:,} articles ({due:,} due), table fillfactor {fillfactor}, "
            f"filled in {time.perf_counter() - started:.1f}s"
        )
        # 0, 5,000 and 20,000 in flight at the default 1,000,000 rows; in proportion on a smaller table.
        for in_flight in (0, due // 20, due // 5):
            timings = claim_timings(sessions, now, in_flight)
            print(
                f"  claim 500 with {in_flight:>6,} claimed but not yet checked: median "
                f"{statistics.median(timings):.1f} ms, p90 {sorted(timings)[int(len(timings) * 0.9)]:.1f} ms "
                "(target < 20 ms)",
                flush=True,
            )
        statement, parameters = captured_sql(sessions, now)
        with sessions() as session:
            raw = session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = [row[0] for row in raw]
            session.rollback()
        print("  plan (EXPLAIN ANALYZE of that statement):")
        for line in plan:
            if any(
                key in line for key in ("Scan", "Update", "Limit", "LockRows", "Execution Time", "Buffers")
            ):
                print("   ", line.rstrip()[:150])
        sessions.kw["bind"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1500)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-checks", action="store_true")
    parser.add_argument("--skip-claim", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    if not args.skip_checks:
        bench_checks(args.articles)
    for fillfactor in () if args.skip_claim else (100, 80):
        bench_claim(args.rows, fillfactor)


if __name__ == "__main__":
    main()
