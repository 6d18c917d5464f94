"""Scale-out against the machine's real PostgreSQL and Redis: a scheduler and three Celery worker processes
crawl the newsroom's scripted day, one worker is SIGKILLed mid-check and Redis is restarted during the run,
and the result must be exactly what the single-process crawl stores, at a per-host rate within the limit.

The day runs on virtual time: the test moves the newsroom's clock tick by tick and publishes it in a file
that the scheduler and workers read as their clock, waiting at each tick until all due work is done.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from conftest import REPO_ROOT, service_up
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker
from test_checklog import assert_log_consistent
from test_postgres_store import (
    CrawledDay,
    add_newsroom_feeds,
    assert_matches_script,
    crawled_day,
    create_database,
    drop_database,
    quick_settings,
    single_process_day,
    ticks,
)

from newsdelta.distributed import RedisRateLimiter, RedisRobotsCache, make_celery, status_report
from newsdelta.distributed.politeness_redis import redis_client
from newsdelta.distributed.tasks import CHECK_TASK
from newsdelta.fetch import RobotsRules
from newsdelta.store.db import open_database
from newsdelta.store.models import Article, Feed
from newsdelta.testing.default_day import DAY_START
from newsdelta.testing.newsroom import Newsroom, RequestRecord

REDIS_DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
QUEUE = f"newsdelta-test-{os.getpid()}"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]
PER_HOST_DELAY = 0.02
LEASE = timedelta(seconds=30)
WORKERS = 3
STUCK_AFTER = 3.0  # real seconds without progress before the test lets virtual time pass the lease
CHECK_RECEIVED = re.compile(rf"Task {re.escape(CHECK_TASK)}\[[^]]+\] received")
CHECK_FINISHED = re.compile(rf"Task {re.escape(CHECK_TASK)}\[[^]]+\] (succeeded|raised|failed)")
KILL_AT = DAY_START + timedelta(hours=2)
REDIS_RESTART_AT = DAY_START + timedelta(hours=7)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        not service_up("127.0.0.1", 5432), reason="PostgreSQL is not reachable on 127.0.0.1:5432"
    ),
    pytest.mark.skipif(not service_up("127.0.0.1", 6379), reason="Redis is not reachable on 127.0.0.1:6379"),
]

# The scheduler and workers run this, with a clock read from the file the test writes.
LAUNCHER = """
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path

from newsdelta.config import Settings
from newsdelta.distributed import SchedulerOptions, run_scheduler, run_worker

role, clock_file, lease = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])


def clock():
    return datetime.fromisoformat(clock_file.read_text())


settings = Settings.from_env()
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
if role == "scheduler":
    options = SchedulerOptions(lease=timedelta(seconds=lease), feed_lease=timedelta(seconds=lease), interval=0.01)
    run_scheduler(settings, clock=clock, options=options)
else:
    run_worker(settings, concurrency=4, clock=clock)
"""


class ClockFile:
    """Virtual time shared with other processes; replaced atomically so a reader never sees half a value."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, moment: datetime) -> None:
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(moment.isoformat())
        scratch.replace(self.path)


@dataclass
class Cluster:
    """The scheduler and worker subprocesses, their logs, and the test's hold on them."""

    clock: ClockFile
    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, role: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, role, str(self.clock.path), str(LEASE.total_seconds())],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def log_text(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def in_flight_checks(self, name: str) -> int:
        """Checks the worker received but has not finished, from Celery's own log lines."""
        text = self.log_text(name)
        return len(CHECK_RECEIVED.findall(text)) - len(CHECK_FINISHED.findall(text))

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def pending(sessions: sessionmaker[Session], now: datetime) -> int:
    """Feeds and articles still due at `now` or held by a lease: zero when this tick's work is all done."""
    with sessions() as session:
        return sum(
            session.scalar(
                select(func.count()).where(or_(model.next_check_at <= now, model.lease_until.is_not(None)))
            )
            or 0
            for model in (Article, Feed)
        )


def wait_until_done(
    sessions: sessionmaker[Session], moment: datetime, move_clock: Callable[[datetime], None]
) -> int:
    """Wait for the tick's work; when lost work keeps it from finishing, let virtual time pass the lease
    (as real time would) so the scheduler hands the work out again. Returns how often that was needed."""
    last, last_change, lease_waits = -1, time.monotonic(), 0
    deadline = time.monotonic() + 180  # a loaded CI machine; lost work is caught by the day's comparison
    while (left := pending(sessions, moment)) > 0:
        assert time.monotonic() < deadline, f"{left} items never finished at {moment}"
        if left != last:
            last, last_change = left, time.monotonic()
        elif time.monotonic() - last_change > STUCK_AFTER:
            moment += LEASE + timedelta(seconds=1)
            move_clock(moment)
            lease_waits += 1
            last_change = time.monotonic()
        time.sleep(0.02)
    return lease_waits


def restart_redis() -> None:
    subprocess.run(["redis-cli", "shutdown", "nosave"], check=False, capture_output=True)
    deadline = time.monotonic() + 10
    while service_up("127.0.0.1", 6379):
        assert time.monotonic() < deadline, "Redis did not shut down"
        time.sleep(0.05)
    subprocess.run(REDIS_START, check=True, capture_output=True)
    while not service_up("127.0.0.1", 6379):
        assert time.monotonic() < deadline, "Redis did not come back"
        time.sleep(0.05)


@dataclass
class DistributedRun:
    day: CrawledDay
    requests: list[RequestRecord]
    robots_requests: int
    killed_mid_check: bool
    redis_restarted: bool
    lease_waits: int
    status: dict[str, Any]


@pytest.fixture(scope="module")
def distributed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributedRun]:
    db_url = create_database()
    sessions = open_database(db_url, migrate=False)
    logs = tmp_path_factory.mktemp("cluster")
    env = {
        **os.environ,
        "NEWSDELTA_DB": db_url,
        "NEWSDELTA_BROKER": REDIS_URL,
        "NEWSDELTA_PER_HOST_DELAY": str(PER_HOST_DELAY),
        # Its own queue and Redis keys: another run of these tests on the machine cannot take its tasks.
        "NEWSDELTA_QUEUE": QUEUE,
    }
    cluster = Cluster(ClockFile(logs / "clock"), env, logs)
    with Newsroom(slow_delay=0.2) as newsroom:
        newsroom.clock.set(DAY_START)
        cluster.clock.set(DAY_START)
        add_newsroom_feeds(sessions, newsroom)

        def move_clock(moment: datetime) -> None:
            newsroom.clock.set(moment)
            cluster.clock.set(moment)

        killed = restarted = False
        lease_waits = 0
        try:
            cluster.start("scheduler", "scheduler")
            for n in range(WORKERS):
                cluster.start(f"worker{n}", "worker")
            moment = DAY_START
            for tick in ticks():
                moment = max(moment, tick)
                move_clock(moment)
                if not killed and moment >= KILL_AT:
                    killed = kill_mid_check(cluster, "worker0")
                    if killed:
                        cluster.start("worker0-again", "worker")
                if not restarted and moment >= REDIS_RESTART_AT:
                    restart_redis()
                    restarted = True
                lease_waits += wait_until_done(sessions, moment, move_clock)
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("NEWSDELTA_QUEUE", QUEUE)
                status = status_report(quick_settings(db_url=db_url, broker_url=REDIS_URL), now=moment)
        finally:
            cluster.stop()
        day = crawled_day(sessions, newsroom)
        robots = len(newsroom.requests_for("/robots.txt"))
        run = DistributedRun(day, newsroom.request_log, robots, killed, restarted, lease_waits, status)
    # What the workers logged is in the spans, counters and rows it belongs in (tests/test_checklog.py).
    assert_log_consistent(sessions)
    yield run
    sessions.kw["bind"].dispose()
    drop_database(db_url)


def kill_mid_check(cluster: Cluster, name: str) -> bool:
    """SIGKILL the worker while it is inside a check; False if it did not get one within a few seconds."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if cluster.in_flight_checks(name) > 0:
            cluster.processes[name].send_signal(signal.SIGKILL)
            cluster.processes[name].wait()
            return True
        time.sleep(0.002)
    return False


def test_three_workers_store_exactly_what_one_process_stores(distributed_run: DistributedRun) -> None:
    assert distributed_run.day.outcome == single_process_day().outcome
    assert_matches_script(distributed_run.day)


def test_sigkill_and_redis_restart_lose_and_duplicate_nothing(distributed_run: DistributedRun) -> None:
    assert distributed_run.killed_mid_check, "worker0 was never caught inside a check"
    assert distributed_run.redis_restarted
    # Work lost with the killed worker or the restarted broker came back through its lease.
    assert distributed_run.lease_waits >= 1
    for url, data in distributed_run.day.outcome.items():
        numbers = [number for number, _, _ in data["versions"]]
        digests = [digest for _, _, digest in data["versions"]]
        assert numbers == list(range(len(numbers))), url
        assert len(set(digests)) == len(digests), url


def test_per_host_rate_never_exceeds_the_limit(distributed_run: DistributedRun) -> None:
    starts = sorted(record.at for record in distributed_run.requests)
    window = 0.25
    allowed = round(window / PER_HOST_DELAY) + 1
    busiest = max(
        sum(1 for later in starts[i : i + allowed + 5] if later - start < window)
        for i, start in enumerate(starts)
    )
    assert len(starts) > 300
    assert busiest <= allowed, f"{busiest} requests within {window}s; the limit allows {allowed}"
    # robots.txt is shared: at most one download per worker process, not one per check
    assert distributed_run.robots_requests <= WORKERS + 1


def test_status_reports_backlog_queue_and_error_rates(distributed_run: DistributedRun) -> None:
    status = distributed_run.status
    assert status["articles"]["in_flight"] == 0
    assert status["queue_depth"] == 0
    [source] = status["sources"]
    assert source["source"] == "newsroom" and source["checks"] > 0
    assert 0 <= source["error_rate"] < 0.5


# --- shared politeness, directly ---------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    yield REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{QUEUE}:*"):
        client.delete(key)


def test_rate_limiter_spaces_starts_and_caps_concurrency_across_clients(redis_url: str) -> None:
    """Two limiters with their own connections stand for two worker processes."""
    starts: list[float] = []
    active = 0
    most_active = 0

    async def fetch(limiter: RedisRateLimiter) -> None:
        nonlocal active, most_active
        async with limiter.slot("news.example", 0.03):
            starts.append(time.monotonic())
            active += 1
            most_active = max(most_active, active)
            await asyncio.sleep(0.05)
            active -= 1

    async def run() -> None:
        clients = [redis_client(redis_url) for _ in range(2)]
        limiters = [RedisRateLimiter(client, concurrency=2, prefix=QUEUE) for client in clients]
        await asyncio.gather(*(fetch(limiters[n % 2]) for n in range(12)))
        for client in clients:
            await client.aclose()

    asyncio.run(run())
    gaps = [later - earlier for earlier, later in itertools.pairwise(sorted(starts))]
    assert min(gaps) >= 0.025
    assert most_active <= 2


def test_a_dead_holders_slot_is_freed_after_its_ttl(redis_url: str) -> None:
    async def run() -> float:
        client = redis_client(redis_url)
        limiter = RedisRateLimiter(client, concurrency=1, slot_ttl=0.3, prefix=QUEUE)
        slot = limiter.slot("news.example", 0.0)
        await slot.__aenter__()  # a holder that never exits, as if its process died
        started = time.monotonic()
        async with limiter.slot("news.example", 0.0):
            waited = time.monotonic() - started
        await client.aclose()
        return waited

    assert 0.2 <= asyncio.run(run()) < 2.0


def test_robots_cache_is_shared_and_expires(redis_url: str) -> None:
    async def run() -> tuple[RobotsRules | None, RobotsRules | None, RobotsRules | None]:
        writer, reader = redis_client(redis_url), redis_client(redis_url)
        await RedisRobotsCache(writer, prefix=QUEUE).put(
            "https://news.example", RobotsRules("User-agent: *\n", True), 0.2
        )
        reading = RedisRobotsCache(reader, prefix=QUEUE, local_ttl=0.1)
        seen = await reading.get("https://news.example")
        missing = await reading.get("https://other.example")
        await asyncio.sleep(0.3)
        expired = await reading.get("https://news.example")
        for client in (writer, reader):
            await client.aclose()
        return seen, missing, expired

    seen, missing, expired = asyncio.run(run())
    assert seen == RobotsRules("User-agent: *\n", unreachable=True)
    assert missing is None and expired is None


def test_scheduler_without_broker_refuses_clearly() -> None:
    with pytest.raises(ValueError, match="NEWSDELTA_BROKER"):
        make_celery(quick_settings())
